import GolemExamples

// file-transfer: an upload and a download through gftp, checked byte for byte.
await Examples.main("file-transfer", gftp: true)
