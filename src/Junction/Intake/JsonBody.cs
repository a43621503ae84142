using System.Buffers;
using System.Text;
using System.Text.Json;
using Junction.Observability;

namespace Junction.Intake;

/// <summary>
/// The check every JSON body from an anonymous or admin caller passes before anything reads it:
/// UTF-8, well-formed, at most <see cref="MaxDepth"/> levels, no key twice in one object. Its answer
/// names what was wrong (<c>body: invalid UTF-8 at byte 17</c>), so a hostile body is a 400 rather
/// than an exception deep in a reader (System.Text.Json validates UTF-8 only when a string is read,
/// and keeps both values of a repeated key, so "which email?" would otherwise be decided silently).
/// Signed webhooks do not use it: once verified their bytes are kept as sent.
/// </summary>
public static class JsonBody
{
    /// <summary>Deepest nesting accepted; the same as <see cref="JsonDocument"/>'s default, so a checked body always parses.</summary>
    public const int MaxDepth = 64;

    /// <summary>The largest admin request body read.</summary>
    public const int MaxAdminBodyBytes = 64 * 1024;

    /// <summary>Null when <paramref name="body"/> is acceptable; else a <c>body: …</c> sentence saying what is wrong.</summary>
    public static string? Problem(ReadOnlySpan<byte> body)
    {
        if (IsBlank(body)) return "body: empty; expected a JSON object";
        if (InvalidUtf8At(body) is { } at) return $"body: invalid UTF-8 at byte {at}";

        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = MaxDepth + 1 });
        var keys = new Stack<HashSet<string>>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray when reader.CurrentDepth >= MaxDepth:
                        return $"body: JSON nested deeper than {MaxDepth} levels (at byte {reader.TokenStartIndex})";
                    case JsonTokenType.StartObject:
                        keys.Push(new HashSet<string>(StringComparer.Ordinal));
                        break;
                    case JsonTokenType.EndObject:
                        keys.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                        var name = reader.GetString()!;
                        if (!keys.Peek().Add(name)) return $"body: duplicate key '{Clip(name)}' (at byte {reader.TokenStartIndex}); send each field once";
                        break;
                }
            }
        }
        catch (JsonException ex)
        {
            // The reader's message says what it met and where (line and byte in line); never a value.
            return $"body: not valid JSON ({(ex.Message.Length > 200 ? ex.Message[..200] : ex.Message)})";
        }
        return null;
    }

    /// <summary>The offset of the first byte that is not valid UTF-8, or null when all of it is.</summary>
    public static long? InvalidUtf8At(ReadOnlySpan<byte> body)
    {
        if (System.Text.Unicode.Utf8.IsValid(body)) return null;
        var offset = 0;
        while (offset < body.Length)
        {
            if (Rune.DecodeFromUtf8(body[offset..], out _, out var consumed) != OperationStatus.Done) return offset;
            offset += consumed;
        }
        return null;
    }

    /// <summary>
    /// Reads an admin request's small JSON body (at most <see cref="MaxAdminBodyBytes"/>) and checks it:
    /// the bytes, or the 400/413 to answer. When <paramref name="optional"/>, a blank body is no problem
    /// and comes back as null with no problem.
    /// </summary>
    public static async Task<(byte[]? Body, IResult? Problem)> ReadAdminAsync(HttpRequest request, bool optional, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > MaxAdminBodyBytes) return (null, Problems.TooLarge(request.ContentLength, MaxAdminBodyBytes));
        byte[]? body;
        try
        {
            body = await HookReceiver.ReadBodyAsync(request, MaxAdminBodyBytes, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or BadHttpRequestException or OperationCanceledException)
        {
            return (null, Problems.BadRequest("body-unreadable", "The request body could not be read completely."));
        }
        if (body is null) return (null, Problems.TooLarge(null, MaxAdminBodyBytes));
        if (optional && IsBlank(body)) return (null, null);
        return Problem(body) is { } problem ? (null, Problems.MalformedBody(problem)) : (body, null);
    }

    private static bool IsBlank(ReadOnlySpan<byte> body) => body.Trim(" \t\r\n"u8).IsEmpty;

    private static string Clip(string s) => Pii.Redact(s.Length > 60 ? s[..60] + "…" : s)!;
}
