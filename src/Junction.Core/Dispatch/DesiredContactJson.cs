using System.Text.Json;
using System.Text.Json.Serialization;

namespace Junction.Dispatch;

/// <summary>
/// The one serialization of <see cref="DesiredContact"/>: the planner writes state drafts with it
/// and the dispatcher reads them (and destination_sync) back with it.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DesiredContact))]
public sealed partial class DesiredContactJson : JsonSerializerContext
{
    public static string Serialize(DesiredContact contact) => JsonSerializer.Serialize(contact, Default.DesiredContact);

    public static DesiredContact Deserialize(string json) =>
        JsonSerializer.Deserialize(json, Default.DesiredContact) ?? throw new JsonException("expected a desired contact object; got null");
}
