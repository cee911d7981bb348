"""playaudio-sim: a local SIP media application call simulator over a synthesized cloud assembly.

Test tooling beside the construct library, not part of it: the constructs never import it,
and it imports no CDK. It reads ``constructs_pkg``'s stdlib-only rules (``runtime``,
``chime_facts``, ``s3_keys``, ``audio``), so it ships in the same distribution and cannot
drift from them.
"""
