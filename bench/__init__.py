"""Benchmarks run against the local Slack double."""
