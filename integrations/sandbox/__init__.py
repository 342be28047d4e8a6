"""The vendor sandbox: simulated 8x8, Nextiva/Thrio and TCN APIs on localhost (see FORMATS.md).

It imports no vendor package: it speaks the documented wire formats on its own, so that an
adapter that disagrees with the documents fails a test instead of sharing the mistake.
"""
