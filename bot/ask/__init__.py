"""Questions asked in plain language, answered by running the matching KQL from the catalog."""
