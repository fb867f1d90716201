"""The Streamlit app: app.py is the frame; the packages beside it hold what the frame and the pages use."""
