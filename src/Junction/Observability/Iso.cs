using System.Globalization;

namespace Junction.Observability;

/// <summary>Timestamps as every API shows them: UTC, ISO-8601, with a Z.</summary>
public static class Iso
{
    public static string Utc(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
}
