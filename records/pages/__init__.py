"""Server-rendered pages for brand owners (not the admin): the monitor report and its PDF."""
