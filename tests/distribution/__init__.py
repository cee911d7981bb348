"""The distribution as users get it: the wheel, an install outside the repo, the API
reference, and which of its packages may import which."""
