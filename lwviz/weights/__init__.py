"""Where weights come from, and how foreign state_dicts become builder models."""
