using System.Text.Json.Serialization;
using Junction.Admin;

namespace Junction.Intake;

/// <summary>Source-generated JSON for every response shape: snake_case, no reflection on the hot path.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(HookAccepted))]
[JsonSerializable(typeof(RawEventsPage))]
[JsonSerializable(typeof(RejectionsPage))]
[JsonSerializable(typeof(HealthStatus))]
[JsonSerializable(typeof(Dictionary<string, string>))]
public sealed partial class JunctionJson : JsonSerializerContext;
