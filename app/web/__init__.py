"""Browser pages for the marketer's workspace."""
