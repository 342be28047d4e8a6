"""Fakeline, a sixth vendor that exists only in the test suite: one package and one registry
entry (`SWITCHBOARD_EXTRA_VENDORS`), to show that nothing else needs an edit."""
