"""The observed state the views are drawn from: the Session, its document, its encodings, and their files."""
