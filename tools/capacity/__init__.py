"""`make capacity`: what the function takes (CPU per request, worst-case memory, cold start) and what it costs."""
