// GolemTesting
