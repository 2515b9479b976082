"""Shared types, the error tree, the settings table and the clock.

Every other package may import `core`; `core` imports no other Leadpulse package.
"""
