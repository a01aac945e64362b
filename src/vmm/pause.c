/* Pause and resume (pause.h). vs_vm_pause() sets `want`, kicks every vCPU
 * and waits until each has reached vs_vcpu_pause_point(), the one place in
 * each accelerator's loop that runs after a kick with no device lock held.
 * A stop request wakes parked vCPUs too (the loop checks vm->stopping). */
#include "vmm/pause.h"
#include "vmm/accel.h"
#include "vmm/internal.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#define PAUSE_TIMEOUT_NS 1000000000ULL
#define PARK_POLL_NS 50000000L /* parked vCPUs re-check vm->stopping this often */

struct vs_pause {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* vCPUs wait on it while parked */
	pthread_cond_t acked; /* the main thread waits on it for parked == started */
	bool want;
	unsigned parked;
};

static struct vs_pause *pause_get(struct vs_vm *vm)
{
	struct vs_pause *p = atomic_load(&vm->pause);

	if (!p) {
		p = xzalloc(sizeof(*p));
		pthread_mutex_init(&p->lock, NULL);
		pthread_cond_init(&p->cond, NULL);
		pthread_cond_init(&p->acked, NULL);
		atomic_store(&vm->pause, p);
	}
	return p;
}

static unsigned started_vcpus(const struct vs_vm *vm)
{
	unsigned n = 0;

	for (unsigned i = 0; i < vm->nvcpus; i++)
		n += vm->vcpus[i].started;
	return n;
}

static void deadline_after(struct timespec *ts, uint64_t ns)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ns += (uint64_t)ts->tv_nsec;
	ts->tv_sec += (time_t)(ns / 1000000000ULL);
	ts->tv_nsec = (long)(ns % 1000000000ULL);
}

int vs_vm_pause(struct vs_vm *vm)
{
	struct vs_pause *p = pause_get(vm);
	struct timespec until;
	unsigned want = started_vcpus(vm);
	int r = 0;

	pthread_mutex_lock(&p->lock);
	p->want = true;
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vm->accel->vcpu_kick(&vm->vcpus[i]);
	deadline_after(&until, PAUSE_TIMEOUT_NS);
	pthread_mutex_lock(&p->lock);
	while (p->parked < want && r == 0 && !atomic_load(&vm->stopping))
		r = pthread_cond_timedwait(&p->acked, &p->lock, &until);
	pthread_mutex_unlock(&p->lock);
	if (atomic_load(&vm->stopping))
		r = ESHUTDOWN;
	if (r != 0) {
		vs_vm_resume(vm);
		return -r;
	}
	return 0;
}

void vs_vm_resume(struct vs_vm *vm)
{
	struct vs_pause *p = atomic_load(&vm->pause);

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->want = false;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

bool vs_vm_is_paused(const struct vs_vm *vm)
{
	struct vs_pause *p = atomic_load(&vm->pause);

	return p && p->want;
}

/* Clears a kvm vCPU's immediate_exit after a kick it has served, unless a
 * stop came meanwhile: the stop's kick must still end the next KVM_RUN. */
static void rearm_kvm(struct vs_vcpu *vcpu)
{
	if (!vcpu->run)
		return;
	vcpu->run->immediate_exit = 0;
	if (atomic_load(&vcpu->vm->stopping))
		vcpu->run->immediate_exit = 1;
}

void vs_vcpu_pause_point(struct vs_vcpu *vcpu)
{
	struct vs_vm *vm = vcpu->vm;
	struct vs_pause *p = atomic_load(&vm->pause);
	struct timespec until;

	if (!p || atomic_load(&vm->stopping))
		return;
	pthread_mutex_lock(&p->lock);
	if (p->want) {
		p->parked++;
		pthread_cond_signal(&p->acked);
		while (p->want && !atomic_load(&vm->stopping)) {
			deadline_after(&until, PARK_POLL_NS);
			pthread_cond_timedwait(&p->cond, &p->lock, &until);
		}
		p->parked--;
	}
	pthread_mutex_unlock(&p->lock);
	rearm_kvm(vcpu);
}

void vs_vm_pause_free(struct vs_vm *vm)
{
	struct vs_pause *p = atomic_exchange(&vm->pause, NULL);

	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	pthread_cond_destroy(&p->acked);
	free(p);
}
