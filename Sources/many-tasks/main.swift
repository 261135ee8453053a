import GolemExamples

// many-tasks: `--tasks N` tasks over several providers; failed tasks run again elsewhere.
await Examples.main("many-tasks", options: ["tasks": "10"])
