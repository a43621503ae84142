using System.Text.Json;

namespace Junction.Providers;

internal static class JsonProbe
{
    /// <summary>
    /// The string value of a top-level property, read with a forward-only reader so intake never
    /// builds a DOM. Null when the body is not a JSON object or the property is absent or not a string.
    /// </summary>
    public static string? TopLevelString(ReadOnlySpan<byte> json, ReadOnlySpan<byte> property)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowTrailingCommas = false, MaxDepth = 64 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject) return null;
                if (reader.TokenType != JsonTokenType.PropertyName) return null;
                var match = reader.ValueTextEquals(property);
                if (!reader.Read()) return null;
                if (match) return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // Not our concern here: a malformed body is kept and quarantined by normalization.
        }
        return null;
    }
}
