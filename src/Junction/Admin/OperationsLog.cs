using System.Text.Json.Nodes;
using Junction.Config;
using Junction.Observability;
using Junction.Storage;

namespace Junction.Admin;

/// <summary>
/// Writes the operations log: every state-changing admin call (actor: the token's name from
/// admin.tokens, never the token) and every state-changing CLI verb (actor: <c>cli</c>). An entry is
/// written after the change succeeded, so the log lists what was done, not what was tried.
/// </summary>
public sealed class OperationsLog(IOperationsStore store, TimeProvider time, ILogger<OperationsLog> logger)
{
    /// <summary>The longest free text (a reason, a note) kept in an entry's detail.</summary>
    public const int MaxText = 200;

    /// <summary>Records an operation by the admin token of this request (put there by <see cref="AdminAuth.RequireAdmin"/>).</summary>
    public Task RecordAsync(HttpContext http, string action, string target, JsonObject? detail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        var identity = AdminAuth.Current(http)
            ?? throw new InvalidOperationException($"{action}: an operation was recorded outside an admin route, so there is no actor");
        return RecordAsync(identity.Name, AdminRoles.Name(identity.Role), action, target, detail, cancellationToken);
    }

    /// <summary>Records an operation by the command line, which holds the config and so every right.</summary>
    public Task RecordCliAsync(string action, string target, JsonObject? detail, CancellationToken cancellationToken) =>
        RecordAsync(ConfigLoader.CliActor, AdminRoles.Name(AdminRole.Admin), action, target, detail, cancellationToken);

    /// <summary>Records an operation by a named actor and role (a dashboard session, which holds no token).</summary>
    public async Task RecordAsync(string actor, string role, string action, string target, JsonObject? detail, CancellationToken cancellationToken)
    {
        // Reasons and notes are typed by people and may quote an address: masked like every stored text.
        var safeTarget = Pii.Redact(target)!;
        var json = Pii.Redact((detail ?? []).ToJsonString())!;
        await store.InsertOperationAsync(time.GetUtcNow().ToUnixTimeMilliseconds(), actor, role, action, safeTarget, json, cancellationToken);
        Log.OperationRecorded(logger, action, safeTarget, actor, role);
    }

    /// <summary>The log and its store, for the host and the CLI alike.</summary>
    public static IServiceCollection AddOperationsLog(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        // Both engines' stores are RelationalStores; the log sees only its own contract.
        services.AddSingleton(sp => (IOperationsStore)sp.GetRequiredService<IJunctionStore>());
        return services.AddSingleton<OperationsLog>();
    }

    /// <summary>Free text for a detail: clipped to <see cref="MaxText"/> characters; null stays null.</summary>
    public static string? Text(string? text) => text is { Length: > MaxText } ? text[..MaxText] + "…" : text;
}
