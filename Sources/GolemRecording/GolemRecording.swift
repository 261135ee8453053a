// GolemRecording
