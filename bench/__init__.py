"""Benchmarks: Switchboard's hot paths side by side with their references (`make bench`)."""
