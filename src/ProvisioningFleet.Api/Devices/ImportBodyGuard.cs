namespace ProvisioningFleet.Api.Devices;

/// <summary>
/// The import body as it streams in, watched byte by byte for a field or a row longer than any device can need,
/// and for more rows than an import may hold. The JSON and CSV readers buffer one value at a time, so that a
/// single 120 MB field made the service hold it several times over (4.7 GB seen, never given back); here it is
/// refused after <see cref="MaxFieldBytes"/> bytes, whatever the body's size. Only the structure is tracked
/// (strings and escapes in JSON, quotes in CSV), so the cost is one pass over bytes the readers read anyway.
/// </summary>
public sealed class ImportBodyGuard(Stream inner, ImportBodyGuard.Format format) : Stream
{
    /// <summary>The longest field: far above any real one (an endpoint is at most 2,048 characters, 50 tags about 3,300).</summary>
    public const int MaxFieldBytes = 16 * 1024;

    /// <summary>The longest row, whitespace and field names included.</summary>
    public const int MaxRowBytes = 64 * 1024;

    /// <summary>The most rows one import may hold: a fleet of this size is imported in several files.</summary>
    public const int MaxRows = 200_000;

    private const int MaxNameLength = 64;

    public enum Format
    {
        Json,
        Csv,
    }

    // JSON: depth, in a string, after a backslash; the last string (a property name once ':' follows it).
    private int _depth;
    private bool _inString;
    private bool _escaped;
    private readonly System.Text.StringBuilder _string = new();
    private string _lastString = "";
    private string _property = "";

    // CSV: in quotes, the current field's index, the header's names.
    private bool _inQuotes;
    private int _fieldIndex;
    private readonly List<string> _header = [];
    private bool _inHeader = format == Format.Csv;
    private bool _rowStarted;

    private long _fieldBytes;
    private long _rowBytes;
    private int _row;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        Watch(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = inner.Read(buffer, offset, count);
        Watch(buffer.AsSpan(offset, read));
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private void Watch(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            if (format == Format.Json)
            {
                WatchJson(b);
            }
            else
            {
                WatchCsv(b);
            }
        }
    }

    private void WatchJson(byte b)
    {
        if (_depth >= 2)
        {
            CountRow();
        }

        if (_inString)
        {
            CountField();
            if (_escaped)
            {
                _escaped = false;
            }
            else if (b == '\\')
            {
                _escaped = true;
            }
            else if (b == '"')
            {
                _inString = false;
                _lastString = _string.ToString();
                return;
            }

            if (_string.Length < MaxNameLength)
            {
                _string.Append((char)b);
            }

            return;
        }

        switch (b)
        {
            case (byte)'"':
                _inString = true;
                _string.Clear();
                _fieldBytes = 0;
                break;
            case (byte)':':
                _property = _lastString;
                break;
            case (byte)'{' or (byte)'[':
                _depth++;
                if (_depth == 2)
                {
                    StartRow();
                    CountRow();
                }

                break;
            case (byte)'}' or (byte)']':
                _depth--;
                break;
        }
    }

    private void WatchCsv(byte b)
    {
        var endsLine = !_inQuotes && b is (byte)'\n' or (byte)'\r';
        if (endsLine)
        {
            if (_rowStarted || _inHeader && (_header.Count > 0 || _string.Length > 0))
            {
                EndCsvField();
                _inHeader = false;
            }

            _rowStarted = false;
            _fieldIndex = 0;
            _rowBytes = 0;
            return;
        }

        if (!_rowStarted && !_inHeader)
        {
            StartRow();
            _rowStarted = true;
        }

        CountRow();
        if (b == '"')
        {
            _inQuotes = !_inQuotes;
        }
        else if (!_inQuotes && b == ',')
        {
            EndCsvField();
            _fieldIndex++;
            return;
        }

        if (_inHeader && _string.Length < MaxNameLength)
        {
            _string.Append((char)b);
        }

        CountField();
    }

    private void EndCsvField()
    {
        if (_inHeader)
        {
            _header.Add(_string.ToString().Trim().Trim('"'));
            _string.Clear();
        }

        _fieldBytes = 0;
    }

    private void StartRow()
    {
        _row++;
        _rowBytes = 0;
        if (_row > MaxRows)
        {
            throw new ImportBoundExceededException($"rows[{_row}]", $"An import holds at most {MaxRows} rows; split the file.");
        }
    }

    private void CountRow()
    {
        if (++_rowBytes > MaxRowBytes)
        {
            throw new ImportBoundExceededException(_inHeader ? "header" : $"rows[{_row}]", $"The row is longer than {MaxRowBytes} bytes.");
        }
    }

    private void CountField()
    {
        if (++_fieldBytes > MaxFieldBytes)
        {
            var name = format == Format.Json ? _property : _fieldIndex < _header.Count ? _header[_fieldIndex] : "";
            throw new ImportBoundExceededException(
                _inHeader ? "header" : name.Length == 0 ? $"rows[{_row}]" : $"rows[{_row}].{name}", $"A field is longer than {MaxFieldBytes} bytes.");
        }
    }
}

/// <summary>An import body past one of <see cref="ImportBodyGuard"/>'s bounds: the field to name and why.</summary>
public sealed class ImportBoundExceededException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}
