/// Byte classes of the PDF syntax, as 256-entry tables.
enum PDFBytes {
    static let regular: UInt8 = 0
    static let white: UInt8 = 1
    static let delimiter: UInt8 = 2

    /// PDF 7.2.3: white space is NUL, HT, LF, FF, CR, SP; delimiters are ( ) < > [ ] { } / %.
    static let classes: [UInt8] = {
        var table = [UInt8](repeating: regular, count: 256)
        for byte: UInt8 in [0x00, 0x09, 0x0A, 0x0C, 0x0D, 0x20] { table[Int(byte)] = white }
        for byte in "()<>[]{}/%".utf8 { table[Int(byte)] = delimiter }
        return table
    }()

    /// Hex digit values; 0xFF for anything else.
    static let hexValues: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (offset, byte) in "0123456789".utf8.enumerated() { table[Int(byte)] = UInt8(offset) }
        for (offset, byte) in "abcdef".utf8.enumerated() { table[Int(byte)] = UInt8(10 + offset) }
        for (offset, byte) in "ABCDEF".utf8.enumerated() { table[Int(byte)] = UInt8(10 + offset) }
        return table
    }()

    static func isAllWhitespace(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Bool {
        let classes = Self.classes
        var index = start
        while index < bytes.count {
            if classes[Int(bytes[index])] != white { return false }
            index += 1
        }
        return true
    }
}

/// The PDF stream filters other than FlateDecode (7.4). Each decodes the whole input or fails,
/// and never produces more than `limit` bytes. After the end-of-data marker only white space
/// may follow; with `requireEnd` the marker must be there (else running out of data ends it).
enum StreamFilters {
    static func finish(_ input: UnsafeRawBufferPointer, at index: Int, ended: Bool, requireEnd: Bool) throws(DecodeFailure) {
        if ended {
            guard PDFBytes.isAllWhitespace(input, from: index) else { throw .invalid }
        } else if requireEnd {
            throw .invalid
        }
    }

    /// ASCIIHexDecode: hex digits, white space ignored, `>` ends the data.
    static func asciiHex(_ input: UnsafeRawBufferPointer, limit: Int, requireEnd: Bool) throws(DecodeFailure) -> [UInt8] {
        let classes = PDFBytes.classes, hex = PDFBytes.hexValues
        var output: [UInt8] = []
        output.reserveCapacity(min(limit, input.count / 2 + 1))
        var high: UInt8?
        var index = 0
        var ended = false
        while index < input.count {
            let byte = input[index]
            index += 1
            if byte == UInt8(ascii: ">") { ended = true; break }
            if classes[Int(byte)] == PDFBytes.white { continue }
            let value = hex[Int(byte)]
            guard value != 0xFF else { throw .invalid }
            if let first = high {
                guard output.count < limit else { throw .overBudget }
                output.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        if let first = high {
            guard output.count < limit else { throw .overBudget }
            output.append(first << 4)
        }
        try finish(input, at: index, ended: ended, requireEnd: requireEnd)
        return output
    }

    /// ASCII85Decode: groups of five characters `!`…`u` for four bytes, `z` for four zeros,
    /// white space ignored, `~>` ends the data.
    static func ascii85(_ input: UnsafeRawBufferPointer, limit: Int, requireEnd: Bool) throws(DecodeFailure) -> [UInt8] {
        let classes = PDFBytes.classes
        var output: [UInt8] = []
        output.reserveCapacity(min(limit, input.count))
        var index = 0
        while index < input.count, classes[Int(input[index])] == PDFBytes.white { index += 1 }
        if index + 1 < input.count, input[index] == UInt8(ascii: "<"), input[index + 1] == UInt8(ascii: "~") { index += 2 }
        var value: UInt64 = 0
        var count = 0
        var ended = false
        while index < input.count {
            let byte = input[index]
            index += 1
            if classes[Int(byte)] == PDFBytes.white { continue }
            if byte == UInt8(ascii: "~") {
                guard index < input.count, input[index] == UInt8(ascii: ">") else { throw .invalid }
                index += 1
                ended = true
                break
            }
            guard output.count + 4 <= limit else { throw .overBudget }
            if byte == UInt8(ascii: "z") {
                guard count == 0 else { throw .invalid }
                output.append(contentsOf: [0, 0, 0, 0])
                continue
            }
            guard byte >= 33, byte <= 117 else { throw .invalid }
            value = value * 85 + UInt64(byte - 33)
            count += 1
            if count == 5 {
                guard value <= 0xFFFF_FFFF else { throw .invalid }
                output.append(contentsOf: [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
                value = 0
                count = 0
            }
        }
        if count == 1 { throw .invalid }
        if count > 1 {
            for _ in count..<5 { value = value * 85 + 84 }
            guard value <= 0xFFFF_FFFF else { throw .invalid }
            let bytes = [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
            output.append(contentsOf: bytes.prefix(count - 1))
        }
        try finish(input, at: index, ended: ended, requireEnd: requireEnd)
        return output
    }

    /// RunLengthDecode: a length byte 0…127 copies that many plus one bytes, 129…255 repeats the
    /// next byte 257 minus that many times, 128 ends the data.
    static func runLength(_ input: UnsafeRawBufferPointer, limit: Int, requireEnd: Bool) throws(DecodeFailure) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(min(limit, input.count * 2))
        var index = 0
        var ended = false
        while index < input.count {
            let length = Int(input[index])
            index += 1
            if length == 128 { ended = true; break }
            if length < 128 {
                guard index + length + 1 <= input.count else { throw .invalid }
                guard output.count + length + 1 <= limit else { throw .overBudget }
                output.append(contentsOf: input[index..<(index + length + 1)])
                index += length + 1
            } else {
                guard index < input.count else { throw .invalid }
                guard output.count + 257 - length <= limit else { throw .overBudget }
                output.append(contentsOf: repeatElement(input[index], count: 257 - length))
                index += 1
            }
        }
        try finish(input, at: index, ended: ended, requireEnd: requireEnd)
        return output
    }

    /// LZWDecode: 9 to 12-bit codes, 256 clears the table, 257 ends the data. With `earlyChange`
    /// (the default) the code width grows one code early.
    static func lzw(_ input: UnsafeRawBufferPointer, earlyChange: Bool, limit: Int, requireEnd: Bool) throws(DecodeFailure) -> [UInt8] {
        var prefix = [Int16](repeating: -1, count: 4096)
        var suffix = [UInt8](repeating: 0, count: 4096)
        var length = [Int16](repeating: 1, count: 4096)
        for code in 0..<256 { suffix[code] = UInt8(code) }
        let early = earlyChange ? 1 : 0
        var output: [UInt8] = []
        output.reserveCapacity(min(limit, input.count * 3))
        var nextCode = 258
        var previous = -1
        var bits: UInt32 = 0
        var bitCount = 0
        var index = 0
        var ended = false
        while true {
            let sized = nextCode + early
            let width = sized >= 2048 ? 12 : sized >= 1024 ? 11 : sized >= 512 ? 10 : 9
            while bitCount < width, index < input.count {
                bits = bits << 8 | UInt32(input[index])
                bitCount += 8
                index += 1
            }
            if bitCount < width { break }  // out of data without an end code: the rest is padding
            let code = Int(bits >> UInt32(bitCount - width)) & ((1 << width) - 1)
            bitCount -= width
            bits &= (1 << UInt32(bitCount)) - 1
            if code == 256 {
                nextCode = 258
                previous = -1
                continue
            }
            if code == 257 { ended = true; break }
            let start = output.count
            if code < 256 || (code >= 258 && code < nextCode) {
                let count = Int(length[code])
                guard count <= limit - output.count else { throw .overBudget }
                output.append(contentsOf: repeatElement(0, count: count))
                var walk = code
                var at = start + count - 1
                while walk >= 0 {
                    output[at] = suffix[walk]
                    at -= 1
                    walk = Int(prefix[walk])
                }
            } else if code == nextCode, previous >= 0, nextCode < 4096 {
                // The code being defined: the previous string and its own first byte.
                let count = Int(length[previous]) + 1
                guard count <= limit - output.count else { throw .overBudget }
                output.append(contentsOf: repeatElement(0, count: count))
                var walk = previous
                var at = start + count - 2
                while walk >= 0 {
                    output[at] = suffix[walk]
                    at -= 1
                    walk = Int(prefix[walk])
                }
                output[start + count - 1] = output[start]
            } else {
                throw .invalid
            }
            if previous >= 0, nextCode < 4096 {
                prefix[nextCode] = Int16(previous)
                suffix[nextCode] = output[start]
                length[nextCode] = length[previous] + 1
                nextCode += 1
            }
            previous = code
        }
        try finish(input, at: index, ended: ended, requireEnd: requireEnd)
        return output
    }

    // MARK: - Predictors

    /// Undoes a /Predictor after FlateDecode or LZWDecode (7.4.4.4): the PNG predictors (10 to
    /// 15: each row starts with its own algorithm's number, 0 to 4) or TIFF predictor 2 (8-bit
    /// components only; others are refused). Rows hold `columns` samples of `colors` components;
    /// a last, shorter row is decoded as far as it goes.
    static func unpredict(_ input: [UInt8], predictor: Int, colors: Int, bitsPerComponent bits: Int, columns: Int) throws(DecodeFailure) -> [UInt8] {
        let rowBytes = (colors * bits * columns + 7) / 8
        let pixelBytes = max(1, (colors * bits + 7) / 8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        if predictor == 2 {
            guard bits == 8 else { throw .invalid }
            var index = 0
            while index < input.count {
                let end = min(index + rowBytes, input.count)
                let rowStart = output.count
                for at in index..<end {
                    let column = at - index
                    output.append(column >= colors ? input[at] &+ output[rowStart + column - colors] : input[at])
                }
                index = end
            }
            return output
        }
        var previous = [UInt8](repeating: 0, count: rowBytes)
        var row = [UInt8](repeating: 0, count: rowBytes)
        var index = 0
        while index < input.count {
            let tag = input[index]
            index += 1
            let length = min(rowBytes, input.count - index)
            switch tag {
            case 0:
                for at in 0..<length { row[at] = input[index + at] }
            case 1:  // Sub
                for at in 0..<length { row[at] = input[index + at] &+ (at >= pixelBytes ? row[at - pixelBytes] : 0) }
            case 2:  // Up
                for at in 0..<length { row[at] = input[index + at] &+ previous[at] }
            case 3:  // Average
                for at in 0..<length {
                    let left = at >= pixelBytes ? Int(row[at - pixelBytes]) : 0
                    row[at] = input[index + at] &+ UInt8((left + Int(previous[at])) >> 1)
                }
            case 4:  // Paeth
                for at in 0..<length {
                    let left = at >= pixelBytes ? Int(row[at - pixelBytes]) : 0
                    let up = Int(previous[at])
                    let upLeft = at >= pixelBytes ? Int(previous[at - pixelBytes]) : 0
                    let estimate = left + up - upLeft
                    let toLeft = abs(estimate - left), toUp = abs(estimate - up), toUpLeft = abs(estimate - upLeft)
                    let predicted = toLeft <= toUp && toLeft <= toUpLeft ? left : toUp <= toUpLeft ? up : upLeft
                    row[at] = input[index + at] &+ UInt8(predicted)
                }
            default:
                throw .invalid
            }
            output.append(contentsOf: row[0..<length])
            swap(&previous, &row)
            index += length
        }
        return output
    }
}
