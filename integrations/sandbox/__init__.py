"""The vendor sandbox: simulated 8x8, Nextiva/Thrio and TCN APIs on localhost (see FORMATS.md).

It finds the platforms it simulates through the vendor registry (each vendor's declaration
names its simulation, `Vendor.sandbox_path`) and imports nothing else of a vendor package:
it speaks the documented wire formats on its own, so that an adapter that disagrees with the
documents fails a test instead of sharing the mistake.
"""
