"""A local SIP media application call simulator over a synthesized cloud assembly."""
