// YagnaHTTP
