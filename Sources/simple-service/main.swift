import GolemExamples

// simple-service: `--instances N` service instances polled for stats for `--running-time S` seconds.
await Examples.main("simple-service", options: ["instances": "1", "running-time": "30"])
