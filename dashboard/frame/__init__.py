"""What every page runs inside: the session, the sidebar filters, the link (URL state), the
filter options, and the one door to the warehouse with its cache and time bound."""
