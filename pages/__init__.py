"""One folder per topic: page.py is the Streamlit page (it only composes components), the
modules beside it shape that topic's numbers from the query layer."""
