// GolemExamples
