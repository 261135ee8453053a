import Foundation

// file-transfer over HTTP needs the gftp client side, which is not built yet; the example's
// logic runs in-process today: `swift run golem-sim run` on a scenario whose app is file-transfer.
FileHandle.standardError.write(Data("file-transfer: over HTTP this example needs gftp, which is not built yet; use the in-process run\n".utf8))
exit(2)
