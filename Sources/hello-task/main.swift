import GolemExamples

// hello-task: one task running `date` on one provider, printing its output and a summary.
await Examples.main("hello-task")
