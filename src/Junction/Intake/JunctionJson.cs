using System.Text.Json.Serialization;
using Junction.Admin;
using Junction.Normalize;

namespace Junction.Intake;

/// <summary>Source-generated JSON for every response shape: snake_case, no reflection on the hot path.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(HookAccepted))]
[JsonSerializable(typeof(RawEventsPage))]
[JsonSerializable(typeof(RejectionsPage))]
[JsonSerializable(typeof(HealthStatus))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(EventsPage))]
[JsonSerializable(typeof(QuarantinePage))]
[JsonSerializable(typeof(RetryResult))]
[JsonSerializable(typeof(DriftReport))]
[JsonSerializable(typeof(Junction.Project.PoisonPage))]
[JsonSerializable(typeof(Junction.Project.PoisonRetryResult))]
public sealed partial class JunctionJson : JsonSerializerContext;
