"""One folder per topic: <topic>.py is the Streamlit page (it only composes components), the
modules beside it shape that topic's numbers from the query layer. (The page file carries the
topic's name: Streamlit's test harness finds a page by its file name before the first run.)"""
