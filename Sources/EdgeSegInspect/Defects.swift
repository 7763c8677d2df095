// Class mask → connected components per class → defect records.
// All working memory is allocated once in `DefectFinder.init`; `find` allocates nothing.

public struct Defect: Sendable, Equatable {
    public var classIndex: Int
    public var pixelArea: Int            // in mask pixels
    public var areaMM2: Float?           // when the board profile gives a scale
    public var minX: Int, minY: Int, maxX: Int, maxY: Int   // inclusive, mask pixels
    public var centroidX: Float, centroidY: Float
    public var meanConfidence: Float
    public init(classIndex: Int = 0, pixelArea: Int = 0, areaMM2: Float? = nil,
                minX: Int = 0, minY: Int = 0, maxX: Int = 0, maxY: Int = 0,
                centroidX: Float = 0, centroidY: Float = 0, meanConfidence: Float = 0) {
        self.classIndex = classIndex; self.pixelArea = pixelArea; self.areaMM2 = areaMM2
        self.minX = minX; self.minY = minY; self.maxX = maxX; self.maxY = maxY
        self.centroidX = centroidX; self.centroidY = centroidY; self.meanConfidence = meanConfidence
    }
}

public enum Connectivity: Int, Sendable { case four = 4, eight = 8 }

/// Labels the components of every non-background class in a `width`×`height` mask.
public struct DefectFinder: ~Copyable {
    public let width: Int
    public let height: Int
    public let connectivity: Connectivity
    /// Area of one mask pixel in mm² (nil when the profile gives no scale).
    public var mm2PerPixel: Float?
    /// Components smaller than this (mask pixels) are noise and never reported.
    public var minPixels: Int
    private let visited: UnsafeMutableBufferPointer<Bool>
    private let stack: UnsafeMutableBufferPointer<Int32>
    private let defectStore: UnsafeMutableBufferPointer<Defect>
    public private(set) var count = 0
    /// Components found beyond `capacity` in the last frame (reported, not silently lost).
    public private(set) var overflowed = 0

    public init(width: Int, height: Int, capacity: Int = 64, connectivity: Connectivity = .eight,
                mm2PerPixel: Float? = nil, minPixels: Int = 1) {
        precondition(width > 0 && height > 0 && capacity > 0)
        self.width = width; self.height = height; self.connectivity = connectivity
        self.mm2PerPixel = mm2PerPixel; self.minPixels = max(1, minPixels)
        visited = .allocate(capacity: width * height)
        stack = .allocate(capacity: width * height)
        defectStore = .allocate(capacity: capacity)
        defectStore.initialize(repeating: Defect())
    }

    deinit {
        visited.deallocate(); stack.deallocate(); defectStore.deallocate()
    }

    public var capacity: Int { defectStore.count }
    public var defects: UnsafeBufferPointer<Defect> { UnsafeBufferPointer(rebasing: defectStore[0..<count]) }

    /// Finds the components of every class except `background` in `mask`;
    /// `confidence` (same size) gives each component's mean score.
    public mutating func find(mask: UnsafePointer<UInt8>, confidence: UnsafePointer<Float>?, background: UInt8 = 0) {
        count = 0
        overflowed = 0
        let n = width * height
        visited.update(repeating: false)
        for start in 0..<n where !visited[start] && mask[start] != background {
            let cls = mask[start]
            var top = 0
            stack[top] = Int32(start); top += 1
            visited[start] = true
            var area = 0, sumX = 0, sumY = 0
            var minX = Int.max, minY = Int.max, maxX = -1, maxY = -1
            var confSum: Float = 0
            while top > 0 {
                top -= 1
                let p = Int(stack[top])
                let x = p % width, y = p / width
                area += 1; sumX += x; sumY += y
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
                if let confidence { confSum += confidence[p] }
                for dy in -1...1 {
                    let ny = y + dy
                    if ny < 0 || ny >= height { continue }
                    for dx in -1...1 where dx != 0 || dy != 0 {
                        if connectivity == .four && dx != 0 && dy != 0 { continue }
                        let nx = x + dx
                        if nx < 0 || nx >= width { continue }
                        let q = ny * width + nx
                        if !visited[q] && mask[q] == cls {
                            visited[q] = true
                            stack[top] = Int32(q); top += 1
                        }
                    }
                }
            }
            if area < minPixels { continue }
            if count == capacity { overflowed += 1; continue }
            defectStore[count] = Defect(
                classIndex: Int(cls), pixelArea: area, areaMM2: mm2PerPixel.map { Float(area) * $0 },
                minX: minX, minY: minY, maxX: maxX, maxY: maxY,
                centroidX: Float(sumX) / Float(area), centroidY: Float(sumY) / Float(area),
                meanConfidence: confidence == nil ? 0 : confSum / Float(area))
            count += 1
        }
    }
}
