"""The periodic CRM effectiveness review: its data gathered once per view, the scorecard, the
findings, the page's panels, the meeting pack (PDF, Excel) and the targets upload."""
