"""End-to-end workflows that the command line and scripts share."""
