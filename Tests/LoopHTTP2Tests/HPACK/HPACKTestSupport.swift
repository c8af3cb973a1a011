import Loop

/// Bytes from the RFC's hex dumps ("8286 8441 ...").
func hexBuffer(_ hex: String) -> ByteBuffer {
    let digits = hex.filter { $0.isHexDigit }
    var bytes: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        bytes.append(UInt8(digits[index..<next], radix: 16)!)
        index = next
    }
    return ByteBuffer(bytes: bytes)
}

func hexString(_ buffer: ByteBuffer) -> String {
    buffer.readableBytesView.map { byte in
        let hex = String(byte, radix: 16)
        return byte < 16 ? "0" + hex : hex
    }.joined()
}
