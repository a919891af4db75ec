"""What happens before and around the first window: start window, warm-up, GUI-thread garbage collection, screen fit."""
