"""Test-side helpers shared by integration and e2e tests (the emulator fixtures' engine)."""
