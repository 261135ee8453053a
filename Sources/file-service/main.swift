import GolemExamples

// file-service: `--instances N` instances in a VPN moving files both ways for `--running-time S` seconds.
await Examples.main("file-service", options: ["instances": "1", "running-time": "30"], gftp: true)
