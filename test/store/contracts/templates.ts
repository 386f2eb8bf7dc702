import { describe, expect, it } from 'vitest';
import type { LayoutInput } from '../../../src/core/template-assets.js';
import { T0, type OpenStore } from './fixtures.js';

const layout = (html: string, extra: Partial<LayoutInput> = {}): LayoutInput => ({
  name: 'Brand',
  html,
  text: null,
  variables: {},
  ...extra,
});

/** Layouts, partials and translations, and the assets renders read (TemplateStore). */
export function describeTemplatesContract(name: string, open: OpenStore) {
  describe(`${name} store: templates`, () => {
    it('creates, replaces, lists, reads and deletes layouts, keeping createdAt', async () => {
      const { store, environmentId: env, close } = await open();
      const first = await store.putLayout(
        env,
        'brand',
        layout('<main>{{ content }}</main>', { text: '{{ content }}\n--\nACME', variables: { colour: '#f00', n: 2 } }),
        T0,
      );
      expect(first).toEqual({
        layout: {
          key: 'brand',
          name: 'Brand',
          html: '<main>{{ content }}</main>',
          text: '{{ content }}\n--\nACME',
          variables: { colour: '#f00', n: 2 },
          default: false,
          createdAt: T0,
          updatedAt: T0,
        },
        created: true,
      });
      const replaced = await store.putLayout(env, 'brand', layout('<div>{{ content }}</div>', { name: 'B2' }), T0 + 5);
      expect(replaced).toEqual({
        layout: {
          key: 'brand',
          name: 'B2',
          html: '<div>{{ content }}</div>',
          text: null,
          variables: {},
          default: false,
          createdAt: T0,
          updatedAt: T0 + 5,
        },
        created: false,
      });
      expect(await store.getLayout(env, 'brand')).toEqual(replaced.layout);
      expect(await store.getLayout('env_other', 'brand')).toBeUndefined();
      await store.putLayout(env, 'A', layout('{{ content }}'), T0);
      await store.putLayout(env, 'plain', layout('{{ content }}'), T0);
      const firstPage = await store.listLayouts(env, 2);
      expect(firstPage.items.map((l) => l.key)).toEqual(['A', 'brand']);
      expect(firstPage.nextCursor).toBe('brand');
      expect(await store.listLayouts(env, 2, 'brand')).toMatchObject({ items: [{ key: 'plain' }], nextCursor: null });
      expect((await store.listLayouts('env_other', 10)).items).toEqual([]);
      expect(await store.deleteLayout('env_other', 'A')).toBe(false);
      expect(await store.deleteLayout(env, 'A')).toBe(true);
      expect(await store.deleteLayout(env, 'A')).toBe(false);
      expect(await store.getLayout(env, 'A')).toBeUndefined();
      await close();
    });

    it('keeps one default layout: setting one clears the other, false clears it, absent keeps it', async () => {
      const { store, environmentId: env, close } = await open();
      const isDefault = async () => (await store.listLayouts(env, 10)).items.filter((l) => l.default).map((l) => l.key);
      await store.putLayout(env, 'a', layout('{{ content }}', { default: true }), T0);
      expect((await store.putLayout(env, 'b', layout('{{ content }}'), T0)).layout.default).toBe(false);
      expect(await isDefault()).toEqual(['a']);
      expect((await store.getTemplateAssets(env)).defaultLayout).toBe('a');
      expect((await store.putLayout(env, 'b', layout('{{ content }}', { default: true }), T0)).layout.default).toBe(
        true,
      );
      expect(await isDefault()).toEqual(['b']);
      expect((await store.getLayout(env, 'a'))?.default).toBe(false);
      // Left out, a replace keeps it the default; false on another layout changes nothing.
      expect((await store.putLayout(env, 'b', layout('<p>{{ content }}</p>'), T0)).layout.default).toBe(true);
      await store.putLayout(env, 'a', layout('{{ content }}', { default: false }), T0);
      expect(await isDefault()).toEqual(['b']);
      await store.putLayout(env, 'b', layout('{{ content }}', { default: false }), T0);
      expect(await isDefault()).toEqual([]);
      expect((await store.getTemplateAssets(env)).defaultLayout).toBeNull();
      // Deleting the default leaves none.
      await store.putLayout(env, 'a', layout('{{ content }}', { default: true }), T0);
      await store.deleteLayout(env, 'a');
      expect((await store.getTemplateAssets(env)).defaultLayout).toBeNull();
      expect((await store.putLayout(env, 'a', layout('{{ content }}'), T0)).layout.default).toBe(false);
      await close();
    });

    it('creates, replaces, lists, reads and deletes partials and translations', async () => {
      const { store, environmentId: env, close } = await open();
      expect(await store.putPartial(env, 'footer', { name: 'Footer', template: '<p>bye</p>' }, T0)).toEqual({
        partial: { key: 'footer', name: 'Footer', template: '<p>bye</p>', createdAt: T0, updatedAt: T0 },
        created: true,
      });
      expect(await store.putPartial(env, 'footer', { name: 'F', template: '<p>ciao</p>' }, T0 + 1)).toEqual({
        partial: { key: 'footer', name: 'F', template: '<p>ciao</p>', createdAt: T0, updatedAt: T0 + 1 },
        created: false,
      });
      await store.putPartial(env, 'button', { name: 'button', template: '<a>{{ label }}</a>' }, T0);
      expect(await store.getPartial(env, 'footer')).toMatchObject({ template: '<p>ciao</p>' });
      expect(await store.getPartial('env_other', 'footer')).toBeUndefined();
      const partials = await store.listPartials(env, 1);
      expect(partials).toMatchObject({ items: [{ key: 'button' }], nextCursor: 'button' });
      expect(await store.listPartials(env, 1, 'button')).toMatchObject({
        items: [{ key: 'footer' }],
        nextCursor: null,
      });
      expect(await store.deletePartial(env, 'button')).toBe(true);
      expect(await store.deletePartial(env, 'button')).toBe(false);

      const messages = { welcome: { title: 'Bienvenue', items: { one: '1 article', other: '{{ count }} articles' } } };
      expect(await store.putTranslation(env, 'fr-CA', messages, T0)).toEqual({
        translation: { locale: 'fr-CA', messages, createdAt: T0, updatedAt: T0 },
        created: true,
      });
      expect((await store.putTranslation(env, 'fr-CA', { hi: 'Salut' }, T0 + 2)).translation).toEqual({
        locale: 'fr-CA',
        messages: { hi: 'Salut' },
        createdAt: T0,
        updatedAt: T0 + 2,
      });
      await store.putTranslation(env, 'de', { hi: 'Hallo' }, T0);
      expect(await store.getTranslation(env, 'fr-CA')).toMatchObject({ messages: { hi: 'Salut' } });
      expect(await store.getTranslation('env_other', 'fr-CA')).toBeUndefined();
      expect(await store.listTranslations(env, 1)).toMatchObject({ items: [{ locale: 'de' }], nextCursor: 'de' });
      expect(await store.listTranslations(env, 1, 'de')).toMatchObject({
        items: [{ locale: 'fr-CA' }],
        nextCursor: null,
      });
      expect(await store.deleteTranslation(env, 'de')).toBe(true);
      expect(await store.deleteTranslation(env, 'de')).toBe(false);
      await close();
    });

    it('reads every asset at once, under a revision every write moves on', async () => {
      const { store, environmentId: env, close } = await open();
      expect(await store.getTemplateAssets(env)).toEqual({
        revision: '0',
        layouts: {},
        defaultLayout: null,
        partials: {},
        translations: {},
      });
      const revisions: string[] = [];
      const revision = async () => revisions.push((await store.getTemplateAssets(env)).revision);
      await store.putPartial(env, 'footer', { name: 'footer', template: 'bye' }, T0);
      await revision();
      await store.putLayout(
        env,
        'brand',
        layout('<b>{{ content }}</b>', { variables: { c: 'red' }, default: true }),
        T0,
      );
      await revision();
      await store.putTranslation(env, 'en', { hi: 'Hi' }, T0);
      await revision();
      await store.putLayout(env, 'other', layout('{{ content }}', { text: 'T {{ content }}' }), T0);
      await revision();
      expect(new Set(revisions).size).toBe(4);
      expect(await store.getTemplateAssets(env)).toEqual({
        revision: revisions[3],
        layouts: {
          brand: { html: '<b>{{ content }}</b>', text: null, variables: { c: 'red' } },
          other: { html: '{{ content }}', text: 'T {{ content }}', variables: {} },
        },
        defaultLayout: 'brand',
        partials: { footer: 'bye' },
        translations: { en: { hi: 'Hi' } },
      });
      // Another environment has its own (none); a delete of nothing moves nothing.
      expect((await store.getTemplateAssets('env_other')).revision).toBe('0');
      await store.deletePartial(env, 'missing');
      await store.deleteTranslation(env, 'fr');
      await store.deleteLayout(env, 'missing');
      expect((await store.getTemplateAssets(env)).revision).toBe(revisions[3]);
      for (const remove of [
        () => store.deletePartial(env, 'footer'),
        () => store.deleteTranslation(env, 'en'),
        () => store.deleteLayout(env, 'brand'),
      ]) {
        await remove();
        await revision();
      }
      expect(new Set(revisions).size).toBe(7);
      expect(await store.getTemplateAssets(env)).toEqual({
        revision: revisions[6],
        layouts: { other: { html: '{{ content }}', text: 'T {{ content }}', variables: {} } },
        defaultLayout: null,
        partials: {},
        translations: {},
      });
      await close();
    });
  });
}
