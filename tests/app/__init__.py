"""Whole apps, synthesized: the sample app and users' apps (examples, fresh apps under any
feature flags), with what holds for a stack as a whole: compliance packs, linters,
snapshots, logical ids, upgrades, the bucket policy under IAM's rules."""
