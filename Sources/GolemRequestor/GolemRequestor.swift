// GolemRequestor
