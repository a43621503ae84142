namespace Junction.Storage;

/// <summary>
/// A role held by this process (normalize, project): the engine's lock that keeps other nodes out,
/// plus the epoch this holder was given in <c>leases</c> when it took the role. Every commit of the
/// stage checks that epoch inside its own transaction, so a holder whose lock was lost (a dropped
/// connection releases a PostgreSQL session lock server-side) cannot commit once another node has
/// taken over, however late it finds out.
/// </summary>
public sealed class Leadership(string role, string owner, long epoch, IAsyncDisposable? engineLock) : IAsyncDisposable
{
    public string Role { get; } = role;

    /// <summary>Who holds it: host name, process id and a random suffix (no secrets).</summary>
    public string Owner { get; } = owner;

    public long Epoch { get; } = epoch;

    public ValueTask DisposeAsync() => engineLock?.DisposeAsync() ?? ValueTask.CompletedTask;
}

/// <summary>A commit was refused because another holder has taken the role since this one took it.</summary>
public sealed class LeadershipLostException(string role, long epoch)
    : Exception($"leadership of {role} (epoch {epoch}) was taken over by another node; this commit was rolled back");
