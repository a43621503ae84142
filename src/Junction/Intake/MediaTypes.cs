namespace Junction.Intake;

/// <summary>The request content types Junction reads: JSON (and <c>+json</c>) and form-encoded.</summary>
public static class MediaTypes
{
    public static bool IsJson(string? contentType)
    {
        var m = Media(contentType);
        return m.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (m.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && m.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    public static bool IsForm(string? contentType) =>
        Media(contentType).Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase);

    /// <summary>The media type without parameters (<c>; charset=…</c>); empty when there is none.</summary>
    private static ReadOnlySpan<char> Media(string? contentType)
    {
        var media = contentType.AsSpan();
        var semi = media.IndexOf(';');
        return (semi >= 0 ? media[..semi] : media).Trim();
    }
}
