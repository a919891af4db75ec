"""The main window: its docks, menus and the script surface."""
