namespace Junction.Alerts;

/// <summary>
/// A notifier type that posts to a URL, declared by its integration (a chat tool's incoming webhook, a
/// signed webhook): <c>notifiers.ID</c> with this <c>type:</c> takes <c>url</c>, and <c>secret</c> when
/// the type signs. Email (SMTP) is Junction's own and needs no integration.
/// </summary>
public sealed record NotifierDescriptor
{
    /// <summary>The <c>type:</c> value in config.</summary>
    public required string Type { get; init; }

    /// <summary>What <c>url</c> must be, for the config error.</summary>
    public required string UrlExpected { get; init; }

    /// <summary>Null when the type takes no secret; else the check of it: null when usable, else what was expected.</summary>
    public Func<string, string?>? Secret { get; init; }

    /// <summary>The request carrying one message (signed where the type signs), at this time.</summary>
    public required Func<NotifierConfig, AlertMessage, DateTimeOffset, HttpRequestMessage> Request { get; init; }
}
