"""The Automation module: templates, mail delivery, and the pipeline from events to mail."""
