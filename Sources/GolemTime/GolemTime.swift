// GolemTime
