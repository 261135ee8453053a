import Foundation

// The service model is not built yet (see the service issue).
FileHandle.standardError.write(Data("simple-service: the service model is not built yet\n".utf8))
exit(2)
