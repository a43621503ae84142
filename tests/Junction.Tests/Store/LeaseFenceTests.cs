using Junction.Project;
using Junction.Storage;
using Junction.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Junction.Tests.Store;

/// <summary>
/// The lease fence on each engine: once a second holder has taken a role, a commit made with the
/// first holder's lease is rolled back, whatever the first holder believes; the new holder commits.
/// </summary>
public abstract class LeaseFenceTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
    private RelationalStore? _store;

    protected abstract Task<string> NewStorageAsync();

    public async ValueTask InitializeAsync()
    {
        _store = (RelationalStore)StoreFactory.Open(await NewStorageAsync(), _time);
        await _store.MigrateAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is not null) await _store.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task ACommitWithASupersededLease_IsRolledBack_AndTheNewHolderCommits()
    {
        var store = _store!;
        var first = await store.TryLeadAsync("project", CancellationToken.None);
        Assert.NotNull(first);
        Assert.Null(await store.TryLeadAsync("project", CancellationToken.None));

        // The first holder's engine lock goes (on PostgreSQL: its connection dropped) without it knowing.
        await first.DisposeAsync();
        await using var second = await store.TryLeadAsync("project", CancellationToken.None);
        Assert.NotNull(second);
        Assert.True(second.Epoch > first.Epoch);

        var stale = new ProjectionCommit { Cursor = 7 };
        await Assert.ThrowsAsync<LeadershipLostException>(() => store.CommitProjectionAsync(stale, CancellationToken.None, first));
        Assert.Equal(0, await store.GetCursorAsync(RelationalStore.ProjectCursor, CancellationToken.None));

        await store.CommitProjectionAsync(new ProjectionCommit { Cursor = 3 }, CancellationToken.None, second);
        Assert.Equal(3, await store.GetCursorAsync(RelationalStore.ProjectCursor, CancellationToken.None));
        await Assert.ThrowsAsync<LeadershipLostException>(() => store.CommitNormalizationAsync([], "normalize", 5, null, CancellationToken.None,
            new Leadership("normalize", "nobody", 1, null)));
    }

    [Fact]
    public async Task ProjectorWhoseStoreIsUnreachable_KeepsTryingToLead_AndDoesNotStopTheHost()
    {
        // A follower asks for the role while the database cannot be reached: the exception must not
        // escape ExecuteAsync (a faulted BackgroundService stops the host).
        var unreachable = StoreFactory.Open(await UnreachableStorageAsync(), TimeProvider.System);
        using var signal = new ProjectSignal();
        using var projector = new Projector(unreachable, Project.ProjectKit.Config(TestStorage.NewSqlite()), TimeProvider.System, signal,
            new NoDeliveries(), NullLogger<Projector>.Instance);
        await projector.StartAsync(CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.NotNull(projector.ExecuteTask);
        Assert.False(projector.ExecuteTask.IsCompleted, $"the projector stopped: {projector.ExecuteTask.Exception?.InnerException?.Message}");
        await projector.StopAsync(CancellationToken.None);
        await unreachable.DisposeAsync();
    }

    protected abstract Task<string> UnreachableStorageAsync();
}

public sealed class SqliteLeaseFenceTests : LeaseFenceTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());

    // The database path is a directory: opening it fails every time.
    protected override Task<string> UnreachableStorageAsync()
    {
        var path = Path.Combine(TestStorage.NewTempDirectory(), "junction.db");
        Directory.CreateDirectory(path);
        Directory.CreateDirectory(path + ".project.lock");
        return Task.FromResult("sqlite:" + path);
    }
}

public sealed class PostgresLeaseFenceTests : LeaseFenceTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();

    protected override Task<string> UnreachableStorageAsync() =>
        Task.FromResult("postgres:Host=127.0.0.1;Port=1;Username=x;Database=x;Timeout=1");
}
